"""The change-request workflow of the catalog: rules, submission, sign-off, express approval, duty and reminders."""
