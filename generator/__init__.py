"""CEvNS event generator: physics of the interaction and of the neutrino sources.

Modules
-------
constants      physical constants with their sources; unit conventions
nuclei         isotopes, natural abundances, materials by stoichiometry
kinematics     T_max(E_nu), E_min(T), momentum transfer
form_factors   Helm (Lewin-Smith), Klein-Nystrand, symmetrised Fermi
cross_section  SM dsigma/dT and sigma(E) in numpy (the reference for the kernels)
sources        pion decay at rest, reactors, the Sun, user tables
config         TOML configuration and presets, validated on load
experiment     config -> (source, material, cross-section model)
rates          expected counts for an exposure
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
