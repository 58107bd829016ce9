package dev.receptive.cli;

import java.util.Map;

/**
 * What the command line stores beside a model's weights on top of what the library records
 * (normalization and class names): the dataset it was trained on, which evaluate uses by default.
 */
final class ModelMetadata {
    static final String DATASET = "receptive.dataset";

    private ModelMetadata() {
    }

    static Map<String, String> of(DatasetChoice dataset) {
        return Map.of(DATASET, dataset.id());
    }
}
