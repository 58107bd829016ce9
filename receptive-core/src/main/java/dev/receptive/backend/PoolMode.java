package dev.receptive.backend;

public enum PoolMode {
    MAX,
    AVERAGE
}
