"""The monthly report as people see it: charts (PNG, matplotlib's Agg renderer, a shipped CJK
font), the workbook of their figures (.xlsx), and their upload to Slack. The figures are
counted by bot/services/report.py and shown by bot/presenters/report.py."""
