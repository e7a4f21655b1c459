"""Background work: the RQ job functions (calling services and storage), repo mirror, restore and
maintenance, the RQ worker, and the periodic schedule.

Sits beside the faces: imports services, storage, models and `gitstore`, never the web, the API
or the app factory (`infratrace worker` builds the app and runs the jobs inside it).
"""
