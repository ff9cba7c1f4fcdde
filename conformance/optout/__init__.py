"""Rights reservation and opt-out: one creator's choice, written through each channel, must
be read the same way by every checker.

Checks:
- ``optout.train_ai``, ``optout.train_genai``, ``optout.search``, ``optout.inference``,
  ``optout.data_mining``: one channel x evaluator matrix per purpose.  Each intent of the
  intents vector is declared through every channel (site channels by an optout.declare
  vendor; plus:DataMining by each metadata writer; C2PA and CAWG training-mining by each
  C2PA signer); the site channels are published on the harness's loopback test site
  and evaluated over HTTP; in-asset channels are also read by the metadata and C2PA
  readers, and by the evaluators that declare them (they fetch the written or signed asset).  Every decision must equal the intent where the channel can express the
  purpose, and ``unknown`` where it cannot (table below).
- ``optout.precedence``: curated sites that exercise each precedence and combination
  rule, each naming its spec section;
- ``optout.malformed``: malformed and hostile signals (values other than 0 and 1, bad
  structured fields, uppercase and duplicate keys, a huge robots.txt, redirects,
  timeouts, bytes that are not UTF-8): the outcome the spec defines, and no crash;
- ``optout.conflicts``: channels that disagree on one site (headers allow, XMP
  prohibits, ...): every evaluator's decision per channel, and where evaluators disagree.

Purposes and what each signal family can express (``aiii_kit.vocab.OPTOUT_EXPRESSES``):

| purpose | TDMRep | AI preferences | robots.txt | Content-Signal | X-Robots-Tag | plus:DataMining | C2PA/CAWG training-mining |
|---|---|---|---|---|---|---|---|
| train-ai | tdm-reservation | train-ai | the agent | ai-train | noai, noimageai | AIMLTRAINING | ai_training |
| train-genai | tdm-reservation | train-ai (nests) | the agent | ai-train | noai, noimageai | GENAIMLTRAINING | ai_generative_training |
| search | unknown | search | the agent | search | unknown | EXCEPTSEARCHENGINEINDEXING | unknown |
| inference | unknown | unknown | the agent | ai-input | unknown | unknown | ai_inference |
| data-mining | tdm-reservation | unknown | the agent | unknown | unknown | the property itself | data_mining |

Content-Signal (Cloudflare's Content Signals Policy, ``Content-Signal:`` lines in
robots.txt groups) against the other signals, as the precedence cases test it: a ``no``
restricts that use even where the agent may crawl (the policy's (b)); a ``yes`` never
lifts a ``Disallow`` for the agent (RFC 9309 2.2.2: the signals govern use once content
is accessed); the line is read in the agent's group, chosen as RFC 9309 2.2.1 chooses
groups; against AI preferences (``Content-Usage``), the most restrictive wins (the
aipref vocabulary's combining rule; no text combines the two vocabularies).
"""

from conformance.family import Family
from conformance.optout.cases import Conflicts, Malformed, Precedence
from conformance.optout.common import SIGNAL_FAMILY, evaluate_step, plus_code
from conformance.optout.matrix import PURPOSE_CHECKS

FAMILY = Family(name="optout", checks=[*PURPOSE_CHECKS, Precedence(), Malformed(), Conflicts()])

__all__ = ["SIGNAL_FAMILY", "FAMILY", "evaluate_step", "plus_code"]
