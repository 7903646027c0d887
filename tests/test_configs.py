import pytest

from long1k.configs import parse_config
from long1k.errors import Long1kError
from long1k.synthesis.config import SynthesisConfig


def test_yaml_recipe_with_command_line_override(tmp_path):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("num_samples: 500\ns1_share: 0.5\nquestion_links: ['Also:']\n")
    config = parse_config(SynthesisConfig, ["--config", str(recipe), "--num-samples", "20"])
    assert config.num_samples == 20  # the flag wins
    assert config.s1_share == 0.5 and config.question_links == ["Also:"]


def test_unknown_recipe_key_is_an_error_that_names_the_key_meant(tmp_path):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("num_sample: 5\n")
    with pytest.raises(Long1kError) as raised:
        parse_config(SynthesisConfig, ["--config", str(recipe)])
    message = str(raised.value)
    assert message.endswith("recipe.yaml: unknown option 'num_sample'; did you mean 'num_samples'?")
    assert len(message) < 200  # not every option name (2.7 KB for the training stage)


def test_boolean_and_list_flags():
    config = parse_config(SynthesisConfig, ["--decontaminate", "false", "--domains", "math", "science"])
    assert config.decontaminate is False and config.domains == ["math", "science"]


def test_a_list_flag_given_twice_keeps_both():
    from long1k.tasks.prepare import PrepareConfig

    argv = ["--source", "math500=A", "--fixtures", "true", "--source=aime24=B", "--benchmarks", "math500",
            "--benchmarks", "aime24", "aime25"]
    config = parse_config(PrepareConfig, argv)
    assert config.source == ["math500=A", "aime24=B"] and config.benchmarks == ["math500", "aime24", "aime25"]
    assert config.fixtures is True
    assert parse_config(PrepareConfig, ["--source", "x=1"]).source == ["x=1"]


def test_options_are_validated_in_one_style_every_problem_at_once(tmp_path):
    from long1k.scoring.report import ScoreConfig
    from long1k.train.config import SFTConfig

    with pytest.raises(Long1kError) as raised:
        ScoreConfig(predictions=[str(tmp_path)], grader="rulez", timeout=0).validate()
    assert str(raised.value) == ("--grader 'rulez' is not one of rule, judge, both (did you mean 'rule'?); "
                                 "--timeout must be positive, not 0")
    with pytest.raises(Long1kError) as raised:
        SFTConfig(output_dir=str(tmp_path), deepspeed="", bf16=False, loss_on="asistant", preflight="never")
    assert str(raised.value) == ("--loss_on 'asistant' is not one of assistant, last_turn, all, assistant_without_end "
                                 "(did you mean 'assistant'?); --preflight 'never' is not one of refuse, warn, off")


def test_an_abbreviated_flag_is_refused_not_taken_for_another():
    """`--seed 3` on a stage that has only `--seeds` once ran a 39-fine-tune miniature at 3 seeds."""
    from long1k.experiments.miniature import MiniatureConfig

    assert parse_config(MiniatureConfig, ["--seeds", "3"]).seeds == 3
    with pytest.raises(SystemExit) as exited:
        parse_config(MiniatureConfig, ["--seed", "3"])
    assert exited.value.code == 2
