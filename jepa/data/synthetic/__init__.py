"""Procedural synthetic video: evaluation analogues, pretraining sources and few-shot sets (docs/method.md, "Synthetic analogues")."""

from jepa.data.synthetic.catalogue import (ALL_CLASSES, FEWSHOT_SPLITS, HELD_OUT_CLASSES, EPIC_VERBS,
                                           KINETICS_CLASSES)
from jepa.data.synthetic.evalsets import EVAL_TASKS, ClipSet, make_eval_set, oracle_features
from jepa.data.synthetic.sources import (REGIME_SOURCES, SOURCE_CLASSES, Source, assert_no_contamination,
                                         find_contamination, make_fewshot_set, make_source,
                                         pretraining_class_names, sample_regime)

__all__ = ["ALL_CLASSES", "EPIC_VERBS", "EVAL_TASKS", "FEWSHOT_SPLITS", "HELD_OUT_CLASSES", "KINETICS_CLASSES",
           "REGIME_SOURCES", "SOURCE_CLASSES", "ClipSet", "Source", "assert_no_contamination", "find_contamination",
           "make_eval_set", "make_fewshot_set", "make_source", "oracle_features", "pretraining_class_names",
           "sample_regime"]
