"""Static files: hashed names once `collectstatic` has run, the plain names before it."""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's manifest storage (hashed names, compressed copies) once `collectstatic` has
    written its manifest, as in the production image. Before that, say a fresh clone started
    with DEBUG=false, there is no manifest: links use the plain names, which WhiteNoise serves
    from the apps' folders (WHITENOISE_USE_FINDERS), instead of the docs, Redoc and the admin
    answering 500 for a missing manifest entry."""

    def stored_name(self, name: str) -> str:
        if not self.hashed_files:
            return name
        return str(super().stored_name(name))
