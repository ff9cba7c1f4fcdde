"""ExifTool's tag names for the harness's fields, and the media types each operation takes."""

from __future__ import annotations

import re

#: Canonical field -> ExifTool tag (family 1 group) for XMP.
XMP_TAGS: dict[str, str] = {
    "digital_source_type": "XMP-iptcExt:DigitalSourceType",
    "data_mining": "XMP-plus:DataMining",
    "creator": "XMP-dc:Creator",
    "copyright_notice": "XMP-dc:Rights",
    "web_statement": "XMP-xmpRights:WebStatement",
    "title": "XMP-dc:Title",
    "description": "XMP-dc:Description",
}
#: The identifier fields (iscc, isrc, iswc) are items of this list-type tag (an rdf:Bag),
#: one ``<SCHEME>:<value>`` item each (``identifier_bag_item`` and ``identifier_bag`` in the kit).
XMP_IDENTIFIER = "XMP-xmp:Identifier"

#: Canonical field -> ExifTool tag names of the native audio tags it reads (the
#: vendors/mutagen mapping): ID3v2 (MP3, WAV) and Vorbis comments (FLAC).
ID3_TAGS: dict[str, str] = {
    "digital_source_type": "DigitalSourceType",  # TXXX:DigitalSourceType
    "data_mining": "DataMining",  # TXXX:DataMining
    "creator": "Artist",  # TPE1
    "copyright_notice": "Copyright",  # TCOP
    "web_statement": "CopyrightURL",  # WCOP
    "title": "Title",  # TIT2
    "description": "Comment",  # COMM (any language, empty description)
    # ExifTool names a TXXX tag after its description, but an all-capitals description
    # comes out capitalised: TXXX:ISCC is "Iscc", TXXX:ISWC is "Iswc".
    "iscc": "Iscc",  # TXXX:ISCC
    "isrc": "ISRC",  # TSRC
    "iswc": "Iswc",  # TXXX:ISWC
}
VORBIS_TAGS: dict[str, str] = {
    "digital_source_type": "Digitalsourcetype",
    "data_mining": "Datamining",
    "creator": "Artist",
    "copyright_notice": "Copyright",
    "web_statement": "License",
    "title": "Title",
    "description": "Description",
    "iscc": "Iscc",  # unknown comment names are capitalised too
    "isrc": "ISRCNumber",  # ExifTool's own name for the ISRC comment
    "iswc": "Iswc",
}

XMP_WRITE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/tiff"})
AUDIO_TYPES = frozenset({"audio/mpeg", "audio/wav", "audio/flac"})
READ_TYPES = XMP_WRITE_TYPES | AUDIO_TYPES
JUMBF_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/tiff", "audio/wav"})

#: Stock ExifTool strips "http://ns.useplus.org/ldf/vocab/" from plus:DataMining when
#: reading and adds it when writing, so neither form round-trips as written.  This
#: user-defined tag replaces the stock definition by a plain string of the same name.
RAW_DATA_MINING_CONFIG = """\
%Image::ExifTool::UserDefined = (
    'Image::ExifTool::PLUS::XMP' => {
        DataMining => { },
    },
);
1;
"""

PLUS_VOCAB = "http://ns.useplus.org/ldf/vocab/"
#: ExifTool's MIME type names that differ from the harness's.
MIME_ALIASES = {"audio/x-wav": "audio/wav"}
BINARY_PLACEHOLDER = re.compile(r"^\(Binary data \d+ bytes")
DOC_KEY = re.compile(r"^([^:]+):Doc(\d+(?:-\d+)*):(.+)$")
