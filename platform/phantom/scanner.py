"""Scanner profiles and image formation: in-plane blur (MTF), correlated low-dose noise (NPS), calibration.

Blur and noise are applied together in the Fourier domain, slice by slice: one forward and one inverse
FFT per slice, with the noise drawn directly as Fourier coefficients shaped by a CT-like noise power
spectrum (a ramp rolled off by the reconstruction kernel and iterative reconstruction). This costs about
as much as one separable filter pass and gives noise that looks like CT noise, not like blurred pixels.
"""

from dataclasses import dataclass, replace

import numpy as np
import scipy.fft

from . import reference as ref


@dataclass(frozen=True)
class ScannerProfile:
    """A fictitious scanner: the names are made up so nobody mistakes the phantom for a vendor's data."""

    key: str
    manufacturer: str
    model: str
    fwhm_mm: float  # in-plane resolution of the standard kernel
    nps_peak_per_mm: float  # where the noise power peaks (lower = blotchier, more iterative reconstruction)
    noise_scale: float
    hu_offset: float  # calibration offset of water (HU), within the +/-5-10 HU drift seen across sites
    hu_gain: float
    ctdi_scale: float

    def __post_init__(self):
        if not (0.3 <= self.fwhm_mm <= 3.0 and 0.05 <= self.nps_peak_per_mm <= 1.0 and self.noise_scale > 0):
            raise ValueError(f"scanner profile {self.key!r} has implausible resolution or noise settings")


SCANNER_PROFILES = {
    p.key: p
    for p in (
        ScannerProfile("helix256", "Acme Imaging", "Helix 256", 1.0, 0.17, 1.0, 0.0, 1.0, 1.0),
        ScannerProfile("aurora128", "Borealis Medical", "Aurora 128", 1.2, 0.14, 1.12, 6.0, 1.012, 1.1),
        ScannerProfile("stratus64", "Cirrus Healthcare", "Stratus 64", 0.85, 0.21, 0.9, -5.0, 0.99, 0.9),
    )
}
# A profile the study and the demo never draw from (not in SCANNER_PROFILES, so not in the default
# --scanners): an older 16-slice scanner with a soft kernel and blotchy iterative reconstruction and a
# larger calibration error. Segmentation training scores its models on it as an unseen scanner.
HELDOUT_PROFILES = {
    p.key: p
    for p in (ScannerProfile("quasar16", "Quasar Systems", "Quasar 16", 1.6, 0.11, 1.0, -12.0, 1.02, 1.3),)
}
ALL_PROFILES = {**SCANNER_PROFILES, **HELDOUT_PROFILES}
CALIBRATIONS = ("profile", "spread")
# Opportunistic CT has no calibration phantom in the scan: tube voltage (80-140 kVp), scanner model,
# reconstruction kernel and contrast phase move trabecular bone by tens of HU (e.g. L1 trabecular HU
# about 10-30 HU higher in the portal-venous than in the unenhanced phase, Pickhardt PJ et al., AJR
# 2011;196:W735-W740 and Boutin RD et al., AJR 2016;207:W92-W100; kVp and vendor effects of similar size,
# Garner HW et al., J Comput Assist Tomogr 2017;41:649-654). "spread" draws a per-case water offset and
# a gain with these SDs (clipped to the limits), on top of the profile's own small calibration error.
CALIBRATION_OFFSET_SD_HU, CALIBRATION_OFFSET_LIMIT_HU = 20.0, 60.0
CALIBRATION_GAIN_SD, CALIBRATION_GAIN_LIMIT = 0.04, 0.10
CALIBRATION_STREAM = 9_127  # the third seed word of the calibration's random stream (any fixed number)


def calibration_spread(rng: np.random.Generator) -> tuple[float, float]:
    """A per-case (offset HU, gain) drawn from the stated distribution of site-to-site calibration."""
    offset = float(
        np.clip(
            rng.normal(0.0, CALIBRATION_OFFSET_SD_HU),
            -CALIBRATION_OFFSET_LIMIT_HU,
            CALIBRATION_OFFSET_LIMIT_HU,
        )
    )
    gain = float(
        np.clip(rng.normal(1.0, CALIBRATION_GAIN_SD), 1 - CALIBRATION_GAIN_LIMIT, 1 + CALIBRATION_GAIN_LIMIT)
    )
    return offset, gain


def recalibrated(profile: ScannerProfile, offset_hu: float, gain: float) -> ScannerProfile:
    """The profile with an extra calibration error on top of its own."""
    if offset_hu == 0.0 and gain == 1.0:
        return profile
    return replace(profile, hu_offset=profile.hu_offset + offset_hu, hu_gain=profile.hu_gain * gain)


# Noise (HU SD in soft tissue) of a slim and of a large patient at a noise index of ~14 with the tube
# current capped, as the issue asks: about 15-35 HU.
NOISE_SD_SLIM, NOISE_SD_LARGE = 16.0, 31.0
# CTDIvol (mGy) of this low-dose protocol for a slim and a large patient; with ~44 cm from diaphragm to
# thigh this gives the paper's mean DLP of about 240 mGy*cm.
CTDI_SLIM, CTDI_LARGE = 4.0, 7.5
EXAM_LENGTH_CM = (40.0, 48.0)
HU_CLIP = (-1024, 12000)


@dataclass(frozen=True)
class Exposure:
    noise_sd: float
    ctdi_vol: float
    dlp: float

    @property
    def effective_dose_msv(self) -> float:
        return self.dlp * ref.DOSE_PER_DLP_ABDOMEN_PELVIS


def sample_exposure(rng: np.random.Generator, profile: ScannerProfile, size_index: float) -> Exposure:
    noise = profile.noise_scale * (NOISE_SD_SLIM + (NOISE_SD_LARGE - NOISE_SD_SLIM) * size_index)
    noise = float(np.clip(noise * rng.uniform(0.92, 1.08), 14.0, 36.0))
    ctdi = profile.ctdi_scale * (CTDI_SLIM + (CTDI_LARGE - CTDI_SLIM) * size_index) * rng.uniform(0.93, 1.07)
    return Exposure(noise, round(float(ctdi), 2), round(float(ctdi * rng.uniform(*EXAM_LENGTH_CM)), 1))


@dataclass(frozen=True)
class Filters:
    """Fourier-domain filters of one grid and profile (rfft2 layout)."""

    mtf: np.ndarray
    noise_shape: np.ndarray  # scaled so that unit-variance coefficients give unit-variance noise

    @classmethod
    def build(cls, profile: ScannerProfile, shape_yx: tuple[int, int], spacing_mm: float) -> "Filters":
        fy = np.fft.fftfreq(shape_yx[0], d=spacing_mm)[:, None]
        fx = np.fft.rfftfreq(shape_yx[1], d=spacing_mm)[None, :]
        f = np.sqrt(fy**2 + fx**2)
        sigma = profile.fwhm_mm / 2.3548
        mtf = np.exp(-2 * (np.pi * sigma * f) ** 2)
        # Ramp times a Gaussian roll-off peaks at f = peak: |H|^2 = f * exp(-f^2 / (2 peak^2)).
        power = f * np.exp(-(f**2) / (2 * profile.nps_peak_per_mm**2)) * mtf
        power[0, 0] = 0.0
        amplitude = np.sqrt(power)
        full_mean_power = _full_plane_mean(power, shape_yx[1])
        # irfft2 of coefficients with E|c|^2 = N has variance mean(|H|^2) over the full plane.
        scale = np.sqrt(shape_yx[0] * shape_yx[1] / 2.0) / np.sqrt(full_mean_power)
        return cls(mtf.astype(np.float32), (amplitude * scale).astype(np.float32))


def _full_plane_mean(half_plane: np.ndarray, nx: int) -> float:
    """Mean over the full 2-D frequency plane of a Hermitian-symmetric real spectrum given as its half."""
    weights = np.full(half_plane.shape[1], 2.0)
    weights[0] = 1.0
    if nx % 2 == 0:
        weights[-1] = 1.0
    return float((half_plane * weights).sum() / (half_plane.shape[0] * nx))


def form_slab(phantom: np.ndarray, filters: Filters, noise_sd: float, rng: np.random.Generator) -> np.ndarray:
    """Blur a slab of slices with the MTF and add correlated noise of SD `noise_sd` (HU); float32."""
    nz, ny, nx = phantom.shape
    spectrum = scipy.fft.rfft2(phantom, workers=1)
    spectrum *= filters.mtf
    coefficients = rng.standard_normal((nz, ny, 2 * filters.mtf.shape[1]), dtype=np.float32).view(
        np.complex64
    )
    coefficients *= filters.noise_shape * np.float32(noise_sd)
    spectrum += coefficients
    return scipy.fft.irfft2(spectrum, s=(ny, nx), workers=1).astype(np.float32, copy=False)


def calibrate(slab: np.ndarray, profile: ScannerProfile, out: np.ndarray) -> None:
    """Apply the scanner's small HU calibration error and store as int16 CT numbers."""
    slab *= np.float32(profile.hu_gain)
    slab += np.float32(profile.hu_offset + (profile.hu_gain - 1.0) * 0.0)
    np.rint(slab, out=slab)
    np.clip(slab, *HU_CLIP, out=slab)
    out[...] = slab


def metal_streaks(
    shape_yx: tuple[int, int],
    grid_xy: tuple[np.ndarray, np.ndarray],
    centre: tuple[float, float],
    strength: np.ndarray,
    pattern_seed: int,
    towards: float,
) -> np.ndarray:
    """Bright and dark streaks radiating from a metal implant (photon starvation, beam hardening).

    `strength` holds one weight per slice (how much metal that slice crosses); `towards` is the angle of
    the line to the other hip, along which the dark band of beam hardening lies.
    """
    rng = np.random.default_rng(pattern_seed)  # the same streak angles on every slice of the implant
    x, y = grid_xy
    dx, dy = x[None, :] - centre[0], y[:, None] - centre[1]
    angle, radius = np.arctan2(dy, dx), np.sqrt(dx**2 + dy**2)
    pattern = np.zeros(shape_yx, dtype=np.float32)
    for theta, sign in zip(rng.uniform(0, np.pi, 7), rng.choice([-1.0, 1.0], 7), strict=True):
        gap = np.angle(np.exp(2j * (angle - theta))) / 2
        pattern += np.float32(sign * 350.0) * np.exp(-((gap / 0.02) ** 2)).astype(np.float32)
    gap = np.angle(np.exp(2j * (angle - towards))) / 2
    pattern -= np.float32(250.0) * np.exp(-((gap / 0.06) ** 2)).astype(np.float32)
    pattern *= (1.0 / (1.0 + radius / 40.0)).astype(np.float32)
    return strength[:, None, None].astype(np.float32) * pattern[None]
