"""The reduction pipeline: pure stages, the stage graph, and the runner that is the one writer."""
