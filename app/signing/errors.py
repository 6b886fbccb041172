"""The one failure of a signature check: a sentence a technician can act on."""

from __future__ import annotations


class SignatureRefused(Exception):
    """The image is not started: ``sentence`` says why and, where it can, what to do."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence
