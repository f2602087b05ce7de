"""The site's one date-time shape, ISO-like ("2026-12-02 04:04"), in the user's time zone. Django always
localises formats, so settings.DATETIME_FORMAT alone would lose to the English locale's "Dec. 2, 2026";
FORMAT_MODULE_PATH points here instead. osteoscreen/format.js writes the same shape in the browser."""

DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
DATE_INPUT_FORMATS = ["%Y-%m-%d"]
