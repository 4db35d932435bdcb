package io.haraft.core;

/** The role of a node in its current term. */
public enum Role { FOLLOWER, PRE_CANDIDATE, CANDIDATE, LEADER }
