"""The job kinds of the annotations app, declared once (its handlers and the services that start them
import these names)."""

# Reader agreement (Dice, HD95, ASSD, VD) of an interobserver case, once both readers have submitted.
AGREEMENT_JOB = "annotations.agreement"
