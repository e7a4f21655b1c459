"""Request and response helpers shared by the web pages and the JSON API.

Below both faces and above the services: JSON bodies, pagination, public URLs, file downloads
and the app-wide error pages. The faces import from here, never from each other.
"""
