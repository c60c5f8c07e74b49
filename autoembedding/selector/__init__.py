"""The selector: probe candidate models on a Chroma collection, pick one, swap it in."""
