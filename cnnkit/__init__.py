"""cnnkit: the course's library for a chapter on convolutional networks.

What students use lives here: the data (`cnnkit.data`), the training
budget and its procedure (`cnnkit.assignment`), device set-up
(`cnnkit.devices`), training helpers (`cnnkit.training`) and the
explorations' architectures (`cnnkit.explorations`). Importing `cnnkit`
does not import Keras.

The grader's reference implementations (`cnnkit.reference`) and checks
(`cnnkit.checks`) are the grader's alone: the student's kit is built
without them (`cnnkit student-kit`) and no sandbox shows them.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
