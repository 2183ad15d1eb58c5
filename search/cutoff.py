"""Stage 5 of a search: where a ranked list stops being relevant, and when nothing in it is.

Both rules are pure functions of scores, chosen from the score distributions measured on the sample help
center (bench/data/dev_questions.jsonl and the golden queries: 227 answerable questions, 48 out of scope; and
20 gibberish queries), with all-MiniLM-L6-v2 and, for comparison, multilingual-e5-small:

- The tail. Below the first hit, the lists held 40 to 60 labelled-irrelevant articles for every relevant one.
  A hit's best passage cosine tells them apart, but not on one scale for every model: relevant hits at ranks
  2-10 lay a median 0.09 below the first hit's cosine with all-MiniLM-L6-v2 and 0.011 with
  multilingual-e5-small, irrelevant ones 0.28 and 0.044 (e5 puts 90 % of the listed hits between 0.81 and
  0.90). Measured against how far the first hit stands above the query's background, the median cosine of its
  nearest passages, the gaps agree: relevant 0.28 and 0.19 of that lead, irrelevant 0.58 and 0.63. So a hit
  stays while its cosine is within `cosine_margin` (0.6 measured here; the default is 0.8, see Banking77 below)
  of that lead below the first's; and while its final score keeps `score_share` (0.7 here, default 0.5) of the
  first's, which with all-MiniLM-L6-v2 halves the junk left (hits near
  in cosine that lack the first's keyword match and category) and with e5 or rank fusion cuts next to nothing.
  Together they kept every answer that was in the top 3 (204 of 204 with all-MiniLM-L6-v2, 224 of 224 with
  e5), 27 of 33 and 47 of 53 relevant hits at ranks 2-10, and dropped 73 % and 70 % of the irrelevant ones:
  answerable lists shrank from 10 hits to 3.5 and 3.9.
- Nothing relevant. The calibrated confidence (P(the help center answers the query), its 0.5 placed at a
  false-positive rate) is on a comparable scale for both models. With all-MiniLM-L6-v2, Latin gibberish scored
  at most 0.10, out-of-scope questions a median of 0.13, answerable ones a 10th percentile of 0.34; with e5,
  0.03-0.31, 0.24 and 0.38. On the Banking77 help center (bench/eval_datasets.py; 1,500 in-scope and 300
  out-of-scope questions sampled, all-MiniLM-L6-v2) a floor of 0.15 emptied 60 % of the out-of-scope lists but
  cost 0.8 point of top-1 (0.851 -> 0.843: questions ranked right and scored low) and 1.3 of recall@3; 0.02
  empties 15 % of them and costs no top-1 and 0.07 point of recall@3. Below 0.02 and not confident, a search
  lists nothing. A floor on the first cosine holds for one model only (e5 rates gibberish 0.76-0.87, answers
  from 0.81).
- Banking77 (77 close intents, short questions) needs a looser tail than the sample: there margin 0.6 and share
  0.7 cost 0.3 point of recall@3 (0.9518 -> 0.9485); margin 0.8 and share 0.5 cost 0.07 on the sample of 1,500
  and leave 7.7 hits on average (10 uncut). The defaults are the looser values: a list that is too long costs
  a glance, a right answer cut from it costs a ticket.
- Suggestions. The contact form offers at most 3 articles, and a wrong second or third one costs the customer's
  attention at the moment they want to file a ticket, so it cuts more (web/suggestions.py: margin 0.4, share
  0.8). Over the confident answerable questions (79 with all-MiniLM-L6-v2, 136 with e5) it listed the answer as
  often as the former rule (a share of 0.85 of the first's final score) and the list's own values (79 and 134
  times), with 16 and 100 wrong second or third suggestions, against 10 and 197 under the former rule and 51
  and 173 with the list's values.

The first hit is always the reference: a list is never cut before it, and an empty list stays empty.
"""
from __future__ import annotations

from typing import Sequence


def relevant_count(scores: Sequence[tuple[float, float]], background: float, cosine_margin: float,
                   score_share: float) -> int:
    """How many hits of a ranked list to keep, from each hit's (best passage cosine, final score), best first.

    The first, then every next one while its cosine is at most `cosine_margin` × (the first's cosine −
    `background`) below the first's, and its final score at least `score_share` of the first's (with a first
    score of 0 or less, only the cosine counts). `background` is the median cosine of the query's nearest
    passages: how close unrelated passages look to this query with this model."""
    if not scores:
        return 0
    first_cosine, first_score = scores[0]
    allowed_gap = cosine_margin * max(first_cosine - background, 0.0)
    kept = 1
    for cosine, score in scores[1:]:
        if first_cosine - cosine > allowed_gap or (first_score > 0 and score < score_share * first_score):
            break
        kept += 1
    return kept


def nothing_relevant(confident: bool, confidence: float, confidence_floor: float) -> bool:
    """Whether a search should list nothing: its first answer is not confident, and its confidence is below
    `confidence_floor` (0: always list)."""
    return not confident and confidence < confidence_floor
