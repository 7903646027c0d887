"""Full supervised fine-tuning on Long1K with the Hugging Face Trainer and DeepSpeed ZeRO-3."""
