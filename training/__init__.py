"""Training-time code for the learned shape prior (data generation, rendering, datasets).
Not shipped in the extension; may import `inference`, never the other way round."""
