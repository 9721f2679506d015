package io.k3gpu.core.telemetry;

import java.util.AbstractCollection;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * An immutable, insertion-ordered {@code Map<String, V>} over an array of keys, whose value i a subclass makes on
 * demand ({@link #valueAt}) from primitives it holds: what the tegrastats parser hands to {@link GpuSample} for
 * temperatures, power rails and engines. A line has a handful of each, so a linear search is as fast as hashing,
 * and the map is two small objects a sample (itself and its primitives; the parser shares the key array between the
 * samples of a board) instead of a {@code LinkedHashMap} with a table, a node and a boxed value per entry, behind an
 * unmodifiable wrapper.
 *
 * <p>It behaves like {@code Collections.unmodifiableMap(linkedHashMap)}: keys are unique and never null, values may
 * be null, iteration follows insertion order, every mutator (also on the views and entries) throws
 * {@link UnsupportedOperationException}, and {@code equals}, {@code hashCode} and {@code toString} follow
 * {@link AbstractMap}, so it equals any {@code Map} with the same entries. The one difference: a value is a new
 * object at each access (equal to the last one, not the same), as boxing an {@code int} or {@code double} gives.
 * The views ({@link #entrySet()}, {@link #keySet()}, {@link #values()}) are made on each call, not kept.
 */
abstract class ArrayMap<V> implements Map<String, V> {

    /** The keys, distinct and non-null; the subclass holds the values in the same order. */
    final String[] keys;

    /** Takes over {@code keys}, which nobody may change (it may be shared with other maps). */
    ArrayMap(String[] keys) {
        this.keys = keys;
    }

    /** The value of entry i (0 &lt;= i &lt; size()). */
    abstract V valueAt(int i);

    private int indexOf(Object key) {
        if (key != null) {
            for (int i = 0; i < keys.length; i++) {
                if (key.equals(keys[i])) {
                    return i;
                }
            }
        }
        return -1;
    }

    @Override
    public int size() {
        return keys.length;
    }

    @Override
    public boolean isEmpty() {
        return keys.length == 0;
    }

    @Override
    public boolean containsKey(Object key) {
        return indexOf(key) >= 0;
    }

    @Override
    public boolean containsValue(Object value) {
        for (int i = 0; i < keys.length; i++) {
            if (Objects.equals(value, valueAt(i))) {
                return true;
            }
        }
        return false;
    }

    @Override
    public V get(Object key) {
        int i = indexOf(key);
        return i < 0 ? null : valueAt(i);
    }

    @Override
    public V getOrDefault(Object key, V defaultValue) {
        int i = indexOf(key);
        return i < 0 ? defaultValue : valueAt(i);
    }

    @Override
    public void forEach(BiConsumer<? super String, ? super V> action) {
        Objects.requireNonNull(action);
        for (int i = 0; i < keys.length; i++) {
            action.accept(keys[i], valueAt(i));
        }
    }

    @Override
    public int hashCode() {
        int h = 0;
        for (int i = 0; i < keys.length; i++) {
            h += keys[i].hashCode() ^ Objects.hashCode(valueAt(i));
        }
        return h;
    }

    /** As {@link AbstractMap#equals}: any map with the same keys mapped to equal values. */
    @Override
    public boolean equals(Object o) {
        if (o == this) {
            return true;
        }
        if (!(o instanceof Map<?, ?> m) || m.size() != size()) {
            return false;
        }
        try {
            for (int i = 0; i < keys.length; i++) {
                V value = valueAt(i);
                if (value == null) {
                    if (m.get(keys[i]) != null || !m.containsKey(keys[i])) {
                        return false;
                    }
                } else if (!value.equals(m.get(keys[i]))) {
                    return false;
                }
            }
        } catch (ClassCastException | NullPointerException unused) {
            return false;
        }
        return true;
    }

    /** As {@link AbstractMap#toString}: {@code {k1=v1, k2=v2}}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder().append('{');
        for (int i = 0; i < keys.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(keys[i]).append('=').append(valueAt(i));
        }
        return sb.append('}').toString();
    }

    @Override
    public Set<Entry<String, V>> entrySet() {
        return Collections.unmodifiableSet(new AbstractSet<>() {
            @Override
            public Iterator<Entry<String, V>> iterator() {
                return new Cursor<>() {
                    @Override
                    Entry<String, V> at(int i) {
                        return new AbstractMap.SimpleImmutableEntry<>(keys[i], valueAt(i));
                    }
                };
            }

            @Override
            public int size() {
                return keys.length;
            }
        });
    }

    @Override
    public Set<String> keySet() {
        return Collections.unmodifiableSet(new AbstractSet<>() {
            @Override
            public Iterator<String> iterator() {
                return new Cursor<>() {
                    @Override
                    String at(int i) {
                        return keys[i];
                    }
                };
            }

            @Override
            public int size() {
                return keys.length;
            }

            @Override
            public boolean contains(Object o) {
                return containsKey(o);
            }
        });
    }

    @Override
    public Collection<V> values() {
        return Collections.unmodifiableCollection(new AbstractCollection<>() {
            @Override
            public Iterator<V> iterator() {
                return new Cursor<>() {
                    @Override
                    V at(int i) {
                        return valueAt(i);
                    }
                };
            }

            @Override
            public int size() {
                return keys.length;
            }

            @Override
            public boolean contains(Object o) {
                return containsValue(o);
            }
        });
    }

    /** An iterator over the entries in order, giving {@link #at} of each (its remove() refuses). */
    private abstract class Cursor<T> implements Iterator<T> {
        private int i;

        abstract T at(int index);

        @Override
        public boolean hasNext() {
            return i < keys.length;
        }

        @Override
        public T next() {
            if (i >= keys.length) {
                throw new NoSuchElementException();
            }
            return at(i++);
        }
    }

    // Mutators: all refused, as Collections.unmodifiableMap does, whether or not they would change anything.

    @Override
    public V put(String key, V value) {
        throw new UnsupportedOperationException();
    }

    @Override
    public V remove(Object key) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void putAll(Map<? extends String, ? extends V> m) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void clear() {
        throw new UnsupportedOperationException();
    }

    @Override
    public void replaceAll(BiFunction<? super String, ? super V, ? extends V> function) {
        throw new UnsupportedOperationException();
    }

    @Override
    public V putIfAbsent(String key, V value) {
        throw new UnsupportedOperationException();
    }

    @Override
    public boolean remove(Object key, Object value) {
        throw new UnsupportedOperationException();
    }

    @Override
    public boolean replace(String key, V oldValue, V newValue) {
        throw new UnsupportedOperationException();
    }

    @Override
    public V replace(String key, V value) {
        throw new UnsupportedOperationException();
    }

    @Override
    public V computeIfAbsent(String key, Function<? super String, ? extends V> mappingFunction) {
        throw new UnsupportedOperationException();
    }

    @Override
    public V computeIfPresent(String key, BiFunction<? super String, ? super V, ? extends V> remappingFunction) {
        throw new UnsupportedOperationException();
    }

    @Override
    public V compute(String key, BiFunction<? super String, ? super V, ? extends V> remappingFunction) {
        throw new UnsupportedOperationException();
    }

    @Override
    public V merge(String key, V value, BiFunction<? super V, ? super V, ? extends V> remappingFunction) {
        throw new UnsupportedOperationException();
    }
}
