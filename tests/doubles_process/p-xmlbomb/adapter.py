"""Writes an XMP packet whose DOCTYPE defines a billion-laughs entity into a JPEG."""

from typing import Any

from aiii_kit import Adapter, AdapterError, Asset

LAUGHS = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10 if i else "lol"}">' for i in range(10))
PACKET = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    f"<!DOCTYPE x:xmpmeta [{LAUGHS}]>"
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
    "<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">&l9;</rdf:li></rdf:Alt></dc:title>"
    "</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>"
)


class Double(Adapter):
    version_hint = "1.0-xmlbomb"

    def metadata_write(self, asset: Asset, params: dict[str, Any]) -> Asset:
        data = asset.data
        if data[:2] != b"\xff\xd8":
            raise AdapterError("not a JPEG")
        payload = b"http://ns.adobe.com/xap/1.0/\x00" + PACKET.encode()
        segment = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
        return Asset(data[:2] + segment + data[2:], asset.media_type, asset.name)
