"""placeholder"""

from parsers.readers.base import Extracted


def read_html(data: bytes) -> Extracted:
    raise NotImplementedError
