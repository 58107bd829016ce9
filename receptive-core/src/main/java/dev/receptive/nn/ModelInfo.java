package dev.receptive.nn;

import dev.receptive.data.Normalization;
import java.util.List;

/**
 * What inference needs to know about a model's data besides its weights: how raw pixels were
 * normalized in training and what each output class is called. The trainer records it from the
 * training set, model files store it, and predictors use it to turn images into inputs.
 *
 * @param normalization the input normalization, or null when unknown
 * @param classNames one name per output class, or empty when unknown
 */
public record ModelInfo(Normalization normalization, List<String> classNames) {
    /** Nothing known. */
    public static final ModelInfo NONE = new ModelInfo(null, List.of());

    /**
     * Copies the names; each must be non-empty and free of control characters (tab, newline).
     *
     * @param normalization the input normalization, or null when unknown
     * @param classNames one name per output class, or empty when unknown; not null
     * @throws IllegalArgumentException when a name is empty or holds a control character
     */
    public ModelInfo {
        classNames = List.copyOf(classNames);
        for (String name : classNames) {
            if (name.isEmpty() || name.chars().anyMatch(Character::isISOControl)) {
                throw new IllegalArgumentException("ModelInfo: class name '" + name.replace("\n", "\\n").replace("\t", "\\t")
                        + "' is empty or holds a control character");
            }
        }
    }

    /** {@return whether the input normalization is known} */
    public boolean hasNormalization() {
        return normalization != null;
    }
}
