package com.google.gson;

/** A second com.google.gson.Gson beside Gson's own: what the consumer's ban on duplicate classes must catch. */
public final class Gson {
}
