"""jepa/notebook_strip.py on a notebook as papermill writes it (the pipeline test runs it on real ones)."""

import json

from jepa import notebook_strip


def _nb():
    timing = {"papermill": {"duration": 0.5, "start_time": "2026-01-01T00:00:00", "status": "completed"},
              "execution": {"iopub.status.idle": "2026-01-01T00:00:01Z"}, "tags": ["parameters"]}
    outputs = [
        {"output_type": "stream", "name": "stdout", "text": ["epoch 1\n"]},
        {"output_type": "stream", "name": "stdout", "text": ["epoch 2\n"]},
        {"output_type": "stream", "name": "stderr", "text": ["\r", "run:  17%|█▋        | 1/6 [00:01<00:06,  1.26s/it]"]},
        {"output_type": "stream", "name": "stderr", "text": ["\r", "run: 100%|██████████| 6/6 [00:02<00:00,  2.54it/s]"]},
        {"output_type": "stream", "name": "stderr", "text": ["\n"]},
        {"output_type": "display_data", "metadata": {},
         "data": {"application/vnd.jupyter.widget-view+json": {"model_id": "m1"}, "text/plain": "HBox()"}},
        {"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}},
        {"output_type": "stream", "name": "stderr", "text": ["RuntimeWarning: divide by zero\n"]},
    ]
    return {"nbformat": 4, "nbformat_minor": 5, "cells": [
        {"cell_type": "code", "id": "f3a9c2d1", "metadata": timing, "execution_count": 1, "outputs": outputs,
         "source": "x"},
        {"cell_type": "markdown", "id": "0b7e4e55", "metadata": {"papermill": {"duration": 0.1}}, "source": "# t"}],
        "metadata": {"widgets": {"application/vnd.jupyter.widget-state+json": {"state": {"m1": {}}}},
                     "papermill": {"parameters": {"seed": 3}, "duration": 9.1, "end_time": "2026-01-01T00:00:09"}}}


def test_strip_keeps_results_and_drops_run_state():
    nb = notebook_strip.strip(_nb())
    assert nb["metadata"] == {"papermill": {"parameters": {"seed": 3}}}
    assert [c["metadata"] for c in nb["cells"]] == [{"tags": ["parameters"]}, {}]
    assert [c["id"] for c in nb["cells"]] == ["cell-0", "cell-1"]  # not the random ids of each conversion
    assert nb["cells"][0]["outputs"] == [
        {"output_type": "stream", "name": "stdout", "text": "epoch 1\nepoch 2\n"},  # merged, unchanged
        {"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}},
        {"output_type": "stream", "name": "stderr", "text": "RuntimeWarning: divide by zero\n"},
    ]


def test_strip_file_is_idempotent(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(_nb()))
    notebook_strip.strip_file(path)
    once = path.read_text()
    assert notebook_strip.main([str(path)]) == 0 and path.read_text() == once
    assert "widget" not in once and "duration" not in once
