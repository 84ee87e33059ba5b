from . import (
    test_analytics,
    test_chinese_calendar,
    test_clv_math,
    test_demo_generator,
    test_demo_plan,
    test_members,
    test_membership_rules,
    test_rfm_rules,
    test_security,
    test_translations,
    test_ui,
    test_visits,
)
