"""GANs: losses and penalties, models, the trainer, checkpoints, sampling."""
from scratchgan.gan import losses
from scratchgan.gan.config import ConfigError, TrainConfig, make_config
from scratchgan.gan.losses import LOSSES, gradient_penalty, r1_penalty
from scratchgan.gan.models import (DCGANDiscriminator, DCGANGenerator, MLPDiscriminator,
                                   MLPGenerator, build_models)

__all__ = ["losses", "LOSSES", "gradient_penalty", "r1_penalty", "TrainConfig", "make_config",
           "ConfigError", "DCGANGenerator", "DCGANDiscriminator", "MLPGenerator",
           "MLPDiscriminator", "build_models"]
