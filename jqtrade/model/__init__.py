"""Shared vocabulary at the bottom of jqtrade: orders, broker reports and A-share rules.

Everything above imports from here (the account, the gates, the simulator); nothing here
imports them.
"""
