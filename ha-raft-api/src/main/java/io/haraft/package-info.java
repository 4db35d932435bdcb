/**
 * HA-Raft's public API: leader election with quorum, lease-based fencing tokens and a replicated
 * log, embedded in your application.
 *
 * <p>Start with {@link io.haraft.RaftNode#builder()}. A node tells you when it becomes and stops
 * being leader ({@link io.haraft.LeadershipListener}); each {@link io.haraft.Leadership} carries a
 * {@link io.haraft.FencingToken} that strictly increases across leaderships, and a lease that
 * guarantees no other leader exists while it is valid. Optionally, a
 * {@link io.haraft.StateMachine} receives the commands committed through
 * {@link io.haraft.RaftNode#submit(byte[])}.
 *
 * <p>Unless stated otherwise, methods of this package reject {@code null} arguments with a
 * {@link java.lang.NullPointerException} and never return {@code null}.
 */
package io.haraft;
