/**
 * The service provider interface between the public API and its implementation. Applications do
 * not use this package; implementations register a {@link io.haraft.spi.RaftNodeFactory}.
 */
package io.haraft.spi;
