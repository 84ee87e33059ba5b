"""Wizards (transient models) of Shop CRM, one file per wizard with its _views.xml."""
