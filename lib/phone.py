"""Phone numbers: one normalised form (E.164, e.g. "+8613800138000") for matching customers.

Used wherever Shop CRM compares mobiles: sign-up at the till, imports, duplicate detection. Pure Python
(``phonenumbers``), no ORM.
"""

import phonenumbers

DEFAULT_REGION = "CN"


class PhoneError(ValueError):
    """A number that cannot be a phone number (``reason``: "invalid" or "foreign")."""

    def __init__(self, reason, raw):
        super().__init__(f"{reason}: {raw!r}")
        self.reason = reason
        self.raw = raw


def normalize(raw, region=DEFAULT_REGION, mobile_only=False, allowed_regions=None):
    """The E.164 form of ``raw`` (spaces, dashes, dots, brackets, a leading +86/0086 are accepted), or
    ``None`` for an empty value. Raises PhoneError("invalid") for a number that is not valid, and
    PhoneError("foreign") when ``allowed_regions`` is given and the number belongs to none of them.
    With ``mobile_only`` a valid fixed-line number is "invalid" too (for the regions that tell them
    apart)."""
    if raw is None:
        return None
    text = str(raw).strip()
    if text.endswith(".0") and text[:-2].isdigit():  # a mobile read from a spreadsheet as a float
        text = text[:-2]
    if not text:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        raise PhoneError("invalid", raw) from error
    if not phonenumbers.is_valid_number(number):
        raise PhoneError("invalid", raw)
    number_region = phonenumbers.region_code_for_number(number)
    if allowed_regions is not None and number_region not in allowed_regions:
        raise PhoneError("foreign", raw)
    if mobile_only and phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise PhoneError("invalid", raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_or_none(raw, region=DEFAULT_REGION):
    """``normalize`` that answers ``None`` instead of raising (for stored search keys)."""
    try:
        return normalize(raw, region)
    except PhoneError:
        return None
