"""The run report: report.html from the reports a run leaves."""
