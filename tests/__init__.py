from . import (
    test_chinese_calendar,
    test_clv_math,
    test_demo_generator,
    test_demo_plan,
    test_security,
    test_translations,
    test_ui,
)
