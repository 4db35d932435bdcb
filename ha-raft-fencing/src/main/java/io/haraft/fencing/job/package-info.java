/**
 * Work that runs only on the leader: {@link io.haraft.fencing.job.LeaderOnlyJob} runs a task on a
 * schedule (or as a long-running loop) while this node holds a valid leadership, and stops it when
 * the leadership is revoked.
 *
 * <p>Unless stated otherwise, methods of this package reject {@code null} arguments with a
 * {@link java.lang.NullPointerException} and never return {@code null}.
 */
package io.haraft.fencing.job;
