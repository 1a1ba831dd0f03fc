"""The projection runner and one module per read model."""
