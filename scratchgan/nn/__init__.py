"""Layers and models: Module, Parameter and the layers a GAN is built from.

    >>> from scratchgan import nn
    >>> D = nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
    >>> D.num_parameters()
    33
"""
from scratchgan.nn import init
from scratchgan.nn.activation import LeakyReLU, ReLU, Sigmoid, Tanh
from scratchgan.nn.container import Sequential
from scratchgan.nn.conv import Conv2d, ConvTranspose2d
from scratchgan.nn.dropout import Dropout
from scratchgan.nn.linear import Embedding, Linear, Maxout
from scratchgan.nn.module import IncompatibleKeys, Module
from scratchgan.nn.normalization import (BatchNorm, BatchNorm1d, BatchNorm2d, MinibatchStd,
                                         estimate_batch_norm_statistics)
from scratchgan.nn.parameter import Parameter
from scratchgan.nn.shape import Flatten, Unflatten, Upsample
from scratchgan.nn.spectral_norm import spectral_norm

__all__ = ["Module", "Parameter", "IncompatibleKeys", "Linear", "Maxout", "Embedding", "Conv2d",
           "ConvTranspose2d", "BatchNorm", "BatchNorm1d", "BatchNorm2d", "MinibatchStd", "LeakyReLU", "ReLU",
           "Tanh", "Sigmoid", "Dropout", "Sequential", "Flatten", "Unflatten", "Upsample",
           "spectral_norm", "init",
           "estimate_batch_norm_statistics"]
