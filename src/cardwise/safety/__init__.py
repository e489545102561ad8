"""SafetyOne: customer-set card controls before approval, anomaly alerts after it."""
