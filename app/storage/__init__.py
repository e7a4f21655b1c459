"""Storage below the services: the object store (local folder or S3), photo blobs and images.

Used by services and jobs alike; imports nothing of the app above it (no Flask, no SQL).
"""
