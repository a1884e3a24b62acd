"""The export pipeline: one producer (rows -> a local file) and one publisher per storage.

``export_execute`` (exports.services.runs) runs them in that order: the finished file is only then
handed to the storage, so nothing half-written ever reaches the final key.
"""
