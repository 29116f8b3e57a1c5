"""What the scorecard contributes to the layers below it: the application scorer that
origination calls at submission (:mod:`credo.origination.scoring`, resolved lazily by dotted
path) and the demo data step."""

from credo.origination.scoring import register_scorer
from credo.scorecard import demo

register_scorer(
    "scorecard",
    score="credo.scorecard.services.score_application",
    published="credo.scorecard.services.published",
)
demo.register()
