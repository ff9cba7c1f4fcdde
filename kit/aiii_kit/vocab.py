"""The shared vocabularies: IPTC digital source types, PLUS, C2PA/CAWG training-mining,
opt-out purposes and signal families.  Standard library only."""

from __future__ import annotations

IPTC_DST = "http://cv.iptc.org/newscodes/digitalsourcetype/"
PLUS_VOCAB = "http://ns.useplus.org/ldf/vocab/"

TRAINING_MINING_KEYS: tuple[str, ...] = ("ai_training", "ai_generative_training", "ai_inference", "data_mining")
TRAINING_MINING_USES: tuple[str, ...] = ("allowed", "notAllowed", "constrained")

OPTOUT_PURPOSES: tuple[str, ...] = ("train-ai", "train-genai", "search", "inference", "data-mining")
OPTOUT_DECISIONS: tuple[str, ...] = ("allowed", "denied", "unknown")
#: Signal families an evaluator may be asked to consult (``channels`` of optout.evaluate).
OPTOUT_SIGNAL_FAMILIES: tuple[str, ...] = ("tdmrep", "aipref", "robots", "content-signal", "x-robots-tag", "plus", "c2pa")
#: The channels optout.declare writes as site artifacts, with their family.
OPTOUT_SITE_CHANNELS: dict[str, str] = {
    "tdmrep-file": "tdmrep", "tdmrep-header": "tdmrep", "tdmrep-html": "tdmrep", "tdmrep-epub2": "tdmrep",
    "tdmrep-epub3": "tdmrep", "tdmrep-pdf": "tdmrep", "aipref-header": "aipref", "aipref-robots": "aipref",
    "robots": "robots", "content-signal": "content-signal", "x-robots-tag": "x-robots-tag",
}
#: Which purposes each family can express; for the others the right answer is "unknown".
OPTOUT_EXPRESSES: dict[str, tuple[str, ...]] = {
    "tdmrep": ("train-ai", "train-genai", "data-mining"),  # one TDM bit for all mining
    "aipref": ("train-ai", "train-genai", "search"),  # keys train-ai (genai training is AI training) and search
    "robots": OPTOUT_PURPOSES,  # through the crawler's user agent, one agent per purpose
    "content-signal": ("train-ai", "train-genai", "search", "inference"),  # CONTENT_SIGNAL_PURPOSES
    "x-robots-tag": ("train-ai", "train-genai"),  # noai / noimageai: one switch for AI training
    "plus": ("train-ai", "train-genai", "search", "data-mining"),
    "c2pa": ("train-ai", "train-genai", "inference", "data-mining"),
}
#: Cloudflare's Content Signals Policy (contentsignals.org, 2025): each key of a
#: ``Content-Signal`` line in robots.txt and the purposes it speaks to.  ai-train is
#: "training or fine-tuning AI models" (generative training too); ai-input is "inputting
#: content into one or more AI models" (RAG, grounding): inference; search is "building a
#: search index and providing search results" (not AI summaries).  No key says data mining.
CONTENT_SIGNAL_PURPOSES: dict[str, tuple[str, ...]] = {
    "ai-train": ("train-ai", "train-genai"), "search": ("search",), "ai-input": ("inference",),
}
#: TDMRep's two namespaces: PDF XMP uses the first, EPUB 3 the second.
TDMREP_NS_XMP = "http://www.w3.org/ns/tdmrep/"
TDMREP_NS_EPUB3 = "http://www.w3.org/ns/tdmrep#"

#: plus:DataMining code -> (decision for the purposes PLUS speaks to, exceptions).  PLUS
#: LDF, property Data Mining: the prohibitions name AI/ML training, generative AI/ML
#: training, and everything but search-engine indexing; the SEE... codes prohibit unless
#: another expression (constraint, embedded or linked rights) allows, which a reader of
#: this one property cannot see: read as prohibited.
PLUS_DATA_MINING: dict[str, tuple[str, dict[str, str]]] = {
    "DMI-UNSPECIFIED": ("unknown", {}),
    "DMI-ALLOWED": ("allowed", {}),
    "DMI-PROHIBITED-AIMLTRAINING": ("allowed", {"train-ai": "denied", "train-genai": "denied"}),
    "DMI-PROHIBITED-GENAIMLTRAINING": ("allowed", {"train-genai": "denied"}),
    "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING": ("denied", {"search": "allowed"}),
    "DMI-PROHIBITED": ("denied", {}),
    "DMI-PROHIBITED-SEECONSTRAINT": ("denied", {}),
    "DMI-PROHIBITED-SEEEMBEDDEDRIGHTSEXPR": ("denied", {}),
    "DMI-PROHIBITED-SEELINKEDRIGHTSEXPR": ("denied", {}),
}


#: training-mining entry (normalised key, see TRAINING_MINING_KEYS) -> purpose.
TRAINING_MINING_PURPOSES: dict[str, str] = {
    "ai_training": "train-ai", "ai_generative_training": "train-genai", "ai_inference": "inference", "data_mining": "data-mining",
}

#: The usual file extension of each media type the harness hands over.
MEDIA_SUFFIX: dict[str, str] = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/tiff": ".tif",
    "image/gif": ".gif",
    "audio/wav": ".wav",
    "audio/mpeg": ".mp3",
    "audio/flac": ".flac",
    "audio/ogg": ".ogg",
    "text/plain": ".txt",
    "application/json": ".json",
    "application/octet-stream": ".bin",
}
#: The media type of the empty asset of a params-only operation.
NO_MEDIA_TYPE = "application/octet-stream"
