"""The service layer: permissions, plan limits and validation live here once.

Web views and API handlers are thin and call these functions; nothing here knows about HTTP.
"""
