"""Decision models: evaluate the published version, edit drafts, test, publish, simulate.

Every other app calls ``evaluate(key, data, subject=obj)``; the result carries the version and
the matched rows (reasons), and with ``record=True`` an ``Evaluation`` row stores them.

The services live in submodules — ``defaults`` (shipped models installed on first use),
``evaluation``, ``versions`` (drafts, tests, publish, test cases) and ``simulation``; this
package re-exports the public ones.
"""

from credo.rules.services.defaults import ensure_defaults, ensure_model
from credo.rules.services.evaluation import (
    Decision,
    evaluate,
    evaluate_many,
    published_version,
    run_version,
)
from credo.rules.services.simulation import Simulation, brief, recorded_inputs, simulate
from credo.rules.services.versions import (
    CaseResult,
    run_tests,
    testcase_create,
    testcase_delete,
    validate_content,
    version_create,
    version_discard,
    version_publish,
    version_update,
)

__all__ = [
    "CaseResult",
    "Decision",
    "Simulation",
    "brief",
    "ensure_defaults",
    "ensure_model",
    "evaluate",
    "evaluate_many",
    "published_version",
    "recorded_inputs",
    "run_tests",
    "run_version",
    "simulate",
    "testcase_create",
    "testcase_delete",
    "validate_content",
    "version_create",
    "version_discard",
    "version_publish",
    "version_update",
]
