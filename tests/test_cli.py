import subprocess
import sys

import pytest

from symgrad.cli import demo, load_digits, main


def test_shipped_digits_load():
    images, labels = load_digits()
    assert images.shape == (1797, 64) and labels.shape == (1797,)
    assert images.min() == 0.0 and images.max() == 1.0
    assert set(labels.tolist()) == set(range(10))


def test_demo_learns_the_digits(capsys):
    accuracy = demo(epochs=3, hidden=32, lr=0.2, lam=1e-4, batch=32, seed=1)
    assert accuracy > 0.85  # chance is 0.1; the gradients are doing the work
    assert "held-out accuracy" in capsys.readouterr().out


def test_demo_rejects_bad_options(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--epochs", "0"])
    assert "--epochs must be at least 1" in capsys.readouterr().err


def test_python_dash_m_symgrad_runs():
    done = subprocess.run([sys.executable, "-m", "symgrad", "--version"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("symgrad ")
