"""Errors the ports raise, so callers never see a driver's own exception types."""


class GriddeskError(Exception):
    """Base of every error griddesk raises on purpose."""


class Conflict(GriddeskError):
    """A write lost a race: the document exists already, or changed since it was read."""


class NotFound(GriddeskError):
    """The document, case or org unit asked for does not exist."""


class BackendUnavailable(GriddeskError):
    """A broker or database did not answer; the operation may succeed if retried later."""


class PoisonMessage(GriddeskError):
    """A message that can never be handled (undecodable, invalid); it goes to the dead-letter topic."""


class StaleBatch(GriddeskError):
    """A batch's buffered writes were refused at flush (a document changed, or an id was taken, since the
    batch read it). Nothing the batch decided may be trusted: it must be redone from the start. Not a
    Conflict on purpose, so that no reaction's ``except Conflict`` retry loop can swallow it."""
