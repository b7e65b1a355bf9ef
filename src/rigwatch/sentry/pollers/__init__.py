"""Ways of reading one miner; each yields rigwatch samples."""
