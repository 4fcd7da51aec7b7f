"""The runtime: `auto` resolved per machine, the Trainer's arguments from it, store keys, device-generic probes.

Every branch is exercised on the CPU by handing ``resolve_runtime`` the facts of a GPU machine; the tests
marked ``needs a GPU`` run the same code on one where there is one.
"""

import pytest
import torch

from ssb.artifacts import ArtifactStore
from ssb.cli import main
from ssb.config import ConfigError, RuntimeConfig, load_profile, profile_from_dict
from ssb.device import DeviceError, Machine, cpu_runtime, resolve_runtime
from ssb.probe import TokenHead, fit
from ssb.sections import HeadRecipe
from ssb.train import store_key, training_arguments

H100 = Machine(n_gpus=1, bf16=True, cpus=16, gpu_name="NVIDIA H100 80GB HBM3")
OLD_GPU = Machine(n_gpus=2, bf16=False, cpus=8, gpu_name="Tesla V100")
CPU = Machine(n_gpus=0, cpus=2)


def test_auto_on_a_cpu_is_the_measured_cpu_recipe():
    rt = resolve_runtime(RuntimeConfig(), CPU)
    assert (rt.device, rt.precision, rt.optimizer, rt.dataloader_workers) == ("cpu", "fp32", "adamw_torch", 0)
    assert not rt.is_cuda and rt.numerics_tag() is None
    assert rt == cpu_runtime()


def test_auto_on_a_gpu_uses_bf16_fused_adamw_and_workers():
    rt = resolve_runtime(RuntimeConfig(), H100)
    assert (rt.device, rt.precision, rt.optimizer, rt.dataloader_workers) == (
        "cuda:0",
        "bf16",
        "adamw_torch_fused",
        4,
    )
    assert rt.numerics_tag() == "bf16" and rt.device_name.startswith("NVIDIA H100")
    assert resolve_runtime(RuntimeConfig(), OLD_GPU).precision == "fp32"  # no bf16 on that GPU
    assert resolve_runtime(RuntimeConfig(device="cuda:1"), OLD_GPU).device == "cuda:1"
    assert resolve_runtime(RuntimeConfig(dataloader_workers=0, precision="fp32"), H100).numerics_tag() is None
    assert resolve_runtime(RuntimeConfig(), Machine(n_gpus=1, bf16=True, cpus=2)).dataloader_workers == 1


def test_a_gpu_asked_for_and_absent_is_one_clear_error():
    with pytest.raises(DeviceError, match=r"runtime.device = 'cuda' but torch .* sees no GPU"):
        resolve_runtime(RuntimeConfig(device="cuda"), CPU)
    with pytest.raises(DeviceError, match="sees 2 GPUs"):
        resolve_runtime(RuntimeConfig(device="cuda:2"), OLD_GPU)
    with pytest.raises(DeviceError, match="has no bf16"):
        resolve_runtime(RuntimeConfig(precision="bf16"), OLD_GPU)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cli_device_cuda_without_a_gpu_is_one_line(capsys, tmp_path):
    code = main(["claims", "--profile", "smoke", "--device", "cuda", "--cache-dir", str(tmp_path), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "DeviceError" in err[0] and "sees no GPU" in err[0]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("device", "gpu", "runtime.device"),
        ("device", "cuda:x", "runtime.device"),
        ("precision", "fp16", "runtime.precision"),
        ("optimizer", "sgd", "runtime.optimizer"),
        ("dataloader_workers", -2, "runtime.dataloader_workers"),
        ("gpu_memory_gib", 0, "runtime.gpu_memory_gib"),
        ("threads", -1, "runtime.threads"),
        ("jobs", -1, "runtime.jobs"),
    ],
)
def test_bad_runtime_fields_name_themselves(field, value, message):
    with pytest.raises(ConfigError, match=message):
        profile_from_dict({"name": "x", "runtime": {field: value}}, "x.toml")


def test_fixed_threads_join_the_keys_of_what_is_trained():
    """A run at fixed threads trains other last bits than torch's default: its models are kept apart, and the
    fp32 keys of the default (every committed artifact's) do not move."""
    cpu, one = resolve_runtime(RuntimeConfig(), CPU), resolve_runtime(RuntimeConfig(threads=1), CPU)
    assert cpu.tag_key("k") == "k" and one.numerics_tag() == "threads=1" and one.tag_key("k") != "k"
    assert resolve_runtime(RuntimeConfig(threads=2), H100).numerics_tag() == "bf16+threads=2"
    before = torch.get_num_threads()
    try:
        one.apply()
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def _args(runtime):
    return training_arguments(
        "/tmp/ssb-test-args",
        epochs=1,
        max_steps=10,
        lr=1e-3,
        weight_decay=0.0,
        batch_size=8,
        seed=0,
        save_steps=5,
        logging_steps=5,
        eval_steps=0,
        progress=False,
        group_by_length=True,
        runtime=runtime,
    )


def test_training_arguments_on_the_cpu_are_unchanged():
    args = _args(None)
    assert (
        getattr(args.optim, "value", args.optim) == "adamw_torch" and not args.bf16 and args.dataloader_num_workers == 0
    )
    assert args.use_cpu and not args.dataloader_pin_memory and not args.torch_compile


def test_training_arguments_follow_the_runtime():
    # a GPU runtime's choices map onto the Trainer's fields; device placement itself needs a GPU, so the
    # arguments are built with the CPU kept (use_cpu) but bf16, the fused optimiser and workers requested
    rt = resolve_runtime(RuntimeConfig(precision="bf16", optimizer="adamw_torch_fused", dataloader_workers=2), CPU)
    args = _args(rt)
    assert (
        args.bf16
        and getattr(args.optim, "value", args.optim) == "adamw_torch_fused"
        and args.dataloader_num_workers == 2
    )
    assert args.dataloader_persistent_workers


def test_bf16_training_gets_its_own_store_key_and_fp32_keeps_the_old_one(tmp_path, data_dir):
    smoke = load_profile("smoke")
    store = ArtifactStore(tmp_path)
    plain = store_key(smoke, store, data_dir, resolve_runtime(RuntimeConfig(), CPU))
    assert store_key(smoke, store, data_dir, resolve_runtime(RuntimeConfig(), H100)) != plain
    fp32_gpu = resolve_runtime(RuntimeConfig(precision="fp32"), H100)
    assert store_key(smoke, store, data_dir, fp32_gpu) == plain  # same recipe: the committed keys stay valid


def test_probe_training_streams_batches_when_features_do_not_fit():
    X = torch.randn(300, 12, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 20, (300,), generator=torch.Generator().manual_seed(1))
    heads, losses = [], []
    for memory in (2**30, 16):  # resident on the device, or moved batch by batch
        torch.manual_seed(0)
        head = TokenHead(12, 20)
        losses.append(
            fit(
                head,
                X,
                y,
                HeadRecipe(epochs=2, lr=1e-2, weight_decay=0, batch_size=32, seed=0),
                progress=False,
                memory_bytes=memory,
            )
        )
        heads.append(head)
    assert losses[0] == losses[1] and losses[0][1] < losses[0][0]
    for a, b in zip(heads[0].state_dict().values(), heads[1].state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_probe_trains_on_the_gpu_like_on_the_cpu():
    X = torch.randn(2000, 32, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 50, (2000,), generator=torch.Generator().manual_seed(1))
    results = {}
    for device in ("cpu", "cuda"):
        torch.manual_seed(0)
        head = TokenHead(32, 50)
        recipe = HeadRecipe(epochs=3, lr=1e-2, weight_decay=0, batch_size=64, seed=0)
        results[device] = fit(head, X, y, recipe, progress=False, device=device)
        assert next(head.parameters()).device.type == device
    assert results["cuda"] == pytest.approx(results["cpu"], rel=1e-3)  # the same run, up to float rounding


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_features_extracted_on_the_gpu_match_the_cpu():
    from ssb.config import BackboneConfig, TokenizerConfig
    from ssb.features import one_at_a_time
    from ssb.model import build_mlm
    from ssb.tokenizer import build_tokenizer

    texts = ["the cat sat on the mat", "a dog ran in the park near the river", "paris is the capital of france"]
    tokenizer = build_tokenizer(TokenizerConfig(kind="wordpiece", vocab_size=120), texts * 20)
    model = build_mlm(BackboneConfig(n_layers=2, hidden=32, n_heads=4, intermediate=64, max_len=32), len(tokenizer))
    on_cpu, ids_cpu, _, _ = one_at_a_time(model.eval(), tokenizer, texts, (1, 2), 32, progress=False)
    on_gpu, ids_gpu, _, _ = one_at_a_time(model.cuda(), tokenizer, texts, (1, 2), 32, progress=False)
    torch.testing.assert_close(ids_gpu, ids_cpu)
    for layer in (1, 2):
        assert on_gpu[layer].device.type == "cpu"  # features come back to the CPU for the store
        torch.testing.assert_close(on_gpu[layer], on_cpu[layer], rtol=1e-3, atol=1e-3)  # TF32 products
