"""Neural speech generation: HiFi-GAN, VITS, RVC and the offline TTS engines."""
