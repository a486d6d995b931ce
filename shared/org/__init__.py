"""The org registry: district → street → community → branch → compound → grid → building → unit,
with the person holding each role. ``docs/org-registry.md`` documents the file format."""
