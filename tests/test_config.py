from pathlib import Path

import pytest
import yaml

from jepa.config import ConfigError, load_params, load_run


REPO = Path(__file__).resolve().parents[1]


def _write(tmp_path, mutate):
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    mutate(raw)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_repo_params_validate_and_resolve():
    params = load_params()
    assert {"smoke", "tiny", "paper"} <= set(params.profiles)
    paper = params.profiles["paper"]
    assert (paper.model.embed_dim, paper.model.depth, paper.model.heads) == (768, 12, 12)
    assert paper.model.grid == (8, 14, 14)
    assert [b.num_blocks for b in paper.mask.blocks] == [8, 2]
    cfg = load_run("single", "mgm", 1, profile="tiny")
    assert cfg.run_id == "single-mgm-s1" and cfg.variant.guidance.strength == 2.0


@pytest.mark.parametrize("mutate, message", [
    (lambda r: r["profiles"]["tiny"]["train"].update(stepz=3), "profiles.tiny.train.stepz"),
    (lambda r: r["profiles"]["tiny"]["train"].update(steps="many"), "profiles.tiny.train.steps"),
    (lambda r: r["profiles"]["tiny"]["model"].update(img_size=30), "not a multiple of patch"),
    (lambda r: r["profiles"]["paper"]["mask"]["blocks"][0].update(spatial_scale=[0.5, 1.5]), "spatial_scale"),
    (lambda r: r["run"]["single"].append("nonexistent"), "unknown variant 'nonexistent'"),
    (lambda r: r.update(profile="huge"), "unknown profile 'huge'"),
    (lambda r: r["variants"]["delta"]["terms"]["delta"].update(weight=-1), "non-negative"),
])
def test_bad_params_fail_with_key_path(tmp_path, mutate, message):
    path = _write(tmp_path, mutate)
    with pytest.raises(ConfigError) as err:
        load_params(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_unknown_variant_and_regime(tmp_path):
    with pytest.raises(ConfigError, match="unknown variant 'nope'"):
        load_run("single", "nope", 0)
    with pytest.raises(ConfigError, match="not defined for regime 'single'"):
        load_run("single", "delta", 0)


def test_unknown_objective_names_its_path():
    from jepa.objectives import build_objectives

    with pytest.raises(ConfigError, match=r"variants.x.terms.not_a_loss: unknown objective"):
        build_objectives({"not_a_loss": {}}, 8, where="variants.x.terms")
    with pytest.raises(ConfigError, match=r"delta: unknown argument\(s\) \['wieght'\]"):
        build_objectives({"delta": {"wieght": 1.0}}, 8)


def test_full_sweep_overrides_list_every_variant_of_each_regime():
    from jepa.cli import sweep_args

    params = load_params()
    args = dict(a.removeprefix("-S ").split("=", 1) for a in sweep_args(params))
    for regime in ("single", "mixed"):
        listed = args[f"run.{regime}"].strip("[]").split(",")
        assert set(listed) == {k for k, v in params.variants.items() if regime in v.regimes}
    # the overrides must validate as a run list
    load_params(overrides={"run": {"single": args["run.single"].strip("[]").split(","),
                                   "mixed": args["run.mixed"].strip("[]").split(","), "seeds": [0]}})


def test_paper_mini_is_paper_at_cpu_sizes_and_follows_its_changes(tmp_path):
    params = load_params()
    paper, mini = params.profiles["paper"], params.profiles["paper_mini"]
    assert mini.data.source == "real" and mini.mask == paper.mask and mini.probe.protocol == paper.probe.protocol
    assert (mini.model.pos_embed, mini.train.schedule, mini.train.ema) == ("rope", "flat", paper.train.ema)
    assert (mini.model.embed_dim, mini.model.frames, mini.train.steps) == (48, 4, 4)
    assert mini.model.tubelet == paper.model.tubelet and mini.train.lr == paper.train.lr

    def change_paper(raw):  # a later change of the paper recipe reaches paper_mini; its own keys stay
        raw["profiles"]["paper"]["train"].update(weight_decay=0.1, steps=99)
        raw["profiles"]["paper"]["mask"]["blocks"][0]["num_blocks"] = 4

    changed = load_params(_write(tmp_path, change_paper)).profiles["paper_mini"]
    assert changed.train.weight_decay == 0.1 and changed.train.steps == 4
    assert [b.num_blocks for b in changed.mask.blocks] == [4, 2]


@pytest.mark.parametrize("mutate, message", [
    (lambda r: r["profiles"]["paper_mini"].update(base="papr"), r"profiles.paper_mini.base: unknown profile 'papr'"),
    (lambda r: r["profiles"]["paper"].update(base="paper_mini"), r"profiles.paper_mini.base: cycle paper -> paper_mini -> paper"),
    (lambda r: r["profiles"]["paper_mini"]["model"].update(img_size=30), "not a multiple of patch"),
])
def test_profile_inheritance_errors_name_the_key(tmp_path, mutate, message):
    with pytest.raises(ConfigError, match=message):
        load_params(_write(tmp_path, mutate))


def test_profile_cfg_resolves_inherited_profiles():
    """The data/probe/few-shot stages read one profile through profile_cfg: a `base:` profile arrives whole."""
    from jepa.config import profile_cfg

    name, mini = profile_cfg("paper_mini")
    _, paper = profile_cfg("paper")
    assert name == "paper_mini"
    assert mini.model.tubelet == paper.model.tubelet and mini.model.pos_embed == paper.model.pos_embed == "rope"
    assert mini.mask.blocks == paper.mask.blocks and mini.model.embed_dim != paper.model.embed_dim


def test_synthetic_motion_split_keeps_the_paper_training_size():
    """tiny: the paper's 160 training clips, the rest (400) validation; default: the paper's 80/20 of the clips."""
    from jepa.config import ConfigError, DataCfg, load_params

    tiny = load_params().profiles["tiny"].data
    assert (tiny.synthetic_motion_split, tiny.synthetic_motion_clips - tiny.synthetic_motion_split) == (160, 400)
    assert DataCfg(eval_train=1, eval_val=1, synthetic_motion_clips=200).synthetic_motion_split == 160
    with pytest.raises(ValueError, match="synthetic_motion_train \\(200\\) must be below synthetic_motion_clips \\(200\\)"):
        DataCfg(eval_train=1, eval_val=1, synthetic_motion_clips=200, synthetic_motion_train=200)


def test_generic_skip_images_switch_is_accepted_from_params(tmp_path):
    """`skip_images` is accepted by every objective, so params.yaml may set it on any term (and only as a bool)."""
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    raw["variants"]["delta"]["terms"]["delta"]["skip_images"] = True
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    assert load_params(path).variants["delta"].terms["delta"]["skip_images"] is True
    raw["variants"]["delta"]["terms"]["delta"]["skip_images"] = "yes"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(ConfigError, match="terms.delta.skip_images must be true or false"):
        load_params(path)


def test_eval_train_by_analogue_names_every_probed_analogue():
    """One number for every analogue, or one per analogue; a missing or unknown analogue is refused by name."""
    from jepa.config import DataCfg

    tiny = load_params().profiles["tiny"].data
    assert {t: tiny.train_clips(t) for t in ("appearance", "motion", "temporal", "synthetic_motion")} == \
        {"appearance": 3000, "motion": 3000, "temporal": 600, "synthetic_motion": 160}
    assert DataCfg(eval_train=50, eval_val=1).train_clips("temporal") == 50
    with pytest.raises(ValueError, match=r"needs exactly \['appearance', 'motion', 'temporal'\].*got \['appearance', 'motion'\]"):
        DataCfg(eval_train={"appearance": 10, "motion": 10}, eval_val=1)
    with pytest.raises(ValueError, match="synthetic_motion"):
        DataCfg(eval_train={"appearance": 1, "motion": 1, "temporal": 1, "synthetic_motion": 1}, eval_val=1)
    with pytest.raises(ValueError):
        DataCfg(eval_train={"appearance": 0, "motion": 1, "temporal": 1}, eval_val=1)
    with pytest.raises(ValueError, match="eval_train must be positive"):
        DataCfg(eval_train=0, eval_val=1)
