//! The reference data a fresh install starts with (docs/DOMAIN.md, "Reference data").
//! Admins may edit it later; seeding only adds what is missing, it never overwrites.

pub struct PostSeed {
    pub code: &'static str,
    pub name: &'static str,
    pub city: &'static str,
    pub kind: &'static str,
    pub timezone: &'static str,
    /// Printed on receipts.
    pub address: &'static str,
}

/// The embassy's 24-hour line serves every post in Mexico: ext. 4440 in business hours,
/// ext. 0 (duty officer) after hours.
pub const EMERGENCY_PHONE: &str = "+52 55 5080 2000";

pub const POSTS: &[PostSeed] = &[
    PostSeed {
        code: "MEX",
        name: "U.S. Embassy Mexico City",
        city: "Mexico City",
        kind: "embassy",
        timezone: "America/Mexico_City",
        address: "Paseo de la Reforma 305, Col. Cuauhtémoc, 06500 Ciudad de México, CDMX",
    },
    PostSeed {
        code: "CJS",
        name: "U.S. Consulate General Ciudad Juárez",
        city: "Ciudad Juárez",
        kind: "consulate_general",
        timezone: "America/Ciudad_Juarez",
        address: "Paseo de la Victoria 3650, Fracc. Partido Senecú, 32543 Ciudad Juárez, Chih.",
    },
    PostSeed {
        code: "GDL",
        name: "U.S. Consulate General Guadalajara",
        city: "Guadalajara",
        kind: "consulate_general",
        timezone: "America/Mexico_City",
        address: "Progreso 175, Col. Americana, 44160 Guadalajara, Jal.",
    },
    PostSeed {
        code: "HMO",
        name: "U.S. Consulate General Hermosillo",
        city: "Hermosillo",
        kind: "consulate_general",
        timezone: "America/Hermosillo",
        address: "Monterey 141, Col. Esqueda, 83000 Hermosillo, Son.",
    },
    PostSeed {
        code: "MAM",
        name: "U.S. Consulate General Matamoros",
        city: "Matamoros",
        kind: "consulate_general",
        timezone: "America/Matamoros",
        address: "Constitución 1, Col. Jardín, 87330 Matamoros, Tamps.",
    },
    PostSeed {
        code: "MID",
        name: "U.S. Consulate General Mérida",
        city: "Mérida",
        kind: "consulate_general",
        timezone: "America/Merida",
        address: "Calle 60 No. 338-K x 29 y 31, Col. Alcalá Martín, 97050 Mérida, Yuc.",
    },
    PostSeed {
        code: "MTY",
        name: "U.S. Consulate General Monterrey",
        city: "Monterrey",
        kind: "consulate_general",
        timezone: "America/Monterrey",
        address: "Av. Alfonso Reyes 150, Col. Valle del Poniente, 66196 Santa Catarina, N.L.",
    },
    PostSeed {
        code: "NOG",
        name: "U.S. Consulate Nogales",
        city: "Nogales",
        kind: "consulate",
        timezone: "America/Hermosillo",
        address: "Calle San José s/n, Fracc. Los Álamos, 84065 Nogales, Son.",
    },
    PostSeed {
        code: "NLD",
        name: "U.S. Consulate General Nuevo Laredo",
        city: "Nuevo Laredo",
        kind: "consulate_general",
        timezone: "America/Matamoros",
        address: "Paseo Colón 1901, Col. Madero, 88260 Nuevo Laredo, Tamps.",
    },
    PostSeed {
        code: "TIJ",
        name: "U.S. Consulate General Tijuana",
        city: "Tijuana",
        kind: "consulate_general",
        timezone: "America/Tijuana",
        address: "Paseo de las Culturas s/n, Mesa de Otay, 22425 Tijuana, B.C.",
    },
];

pub struct ServiceSeed {
    pub code: &'static str,
    pub name: &'static str,
    pub form: Option<&'static str>,
    pub duration_minutes: i32,
    /// People one appointment may cover (1 = the applicant alone).
    pub max_party_size: i32,
    pub description: &'static str,
}

pub const SERVICES: &[ServiceSeed] = &[
    ServiceSeed { code: "notarial", name: "Notarial services", form: None, duration_minutes: 20, max_party_size: 4, description: "Acknowledgments, jurats, certified true copies and authentications; one fee per certificate whatever the number of signers." },
    ServiceSeed { code: "passport-new", name: "New passport (adults and minors)", form: Some("DS-11"), duration_minutes: 30, max_party_size: 4, description: "First passport, minors under 16, or when renewal by DS-82 is not possible. Applicants appear in person." },
    ServiceSeed { code: "passport-renewal", name: "Passport renewal", form: Some("DS-82"), duration_minutes: 20, max_party_size: 4, description: "Adult renewal of a passport issued at 16 or older within the last 15 years." },
    ServiceSeed { code: "passport-correction", name: "Passport correction or replacement", form: Some("DS-5504"), duration_minutes: 20, max_party_size: 1, description: "Data correction, name change, or replacement of a limited-validity passport within one year of issue." },
    ServiceSeed { code: "crba", name: "Consular Report of Birth Abroad", form: Some("DS-2029"), duration_minutes: 45, max_party_size: 4, description: "Documents US citizenship of a child born abroad to US citizen parents; the child and parents attend." },
];

pub struct FeeSeed {
    pub code: &'static str,
    pub description: &'static str,
    pub cfr_item: &'static str,
    pub amount_cents: i64,
}

/// 22 CFR 22.1, in force since this date; amounts in USD.
pub const FEES_EFFECTIVE_FROM: (i32, u32, u32) = (2021, 12, 27);
pub const FEES_CURRENCY: &str = "USD";

pub const FEES: &[FeeSeed] = &[
    FeeSeed {
        code: "passport-execution",
        description: "Passport execution fee (DS-11)",
        cfr_item: "22 CFR 22.1 item 1",
        amount_cents: 3_500,
    },
    FeeSeed {
        code: "passport-book-adult",
        description: "Passport book application, age 16 and over",
        cfr_item: "22 CFR 22.1 item 2(a)",
        amount_cents: 5_000,
    },
    FeeSeed {
        code: "passport-book-minor",
        description: "Passport book application, under 16",
        cfr_item: "22 CFR 22.1 item 2(b)",
        amount_cents: 2_000,
    },
    FeeSeed {
        code: "passport-book-security-surcharge",
        description: "Passport book security surcharge",
        cfr_item: "22 CFR 22.1 item 2(g)",
        amount_cents: 8_000,
    },
    FeeSeed {
        code: "passport-card-adult",
        description: "Passport card, age 16 and over",
        cfr_item: "22 CFR 22.1 item 2",
        amount_cents: 3_000,
    },
    FeeSeed {
        code: "passport-card-minor",
        description: "Passport card, under 16",
        cfr_item: "22 CFR 22.1 item 2",
        amount_cents: 1_500,
    },
    FeeSeed {
        code: "passport-correction",
        description: "Passport correction or replacement within one year (DS-5504): no fee",
        cfr_item: "22 CFR 22.1 item 2",
        amount_cents: 0,
    },
    FeeSeed {
        code: "crba",
        description: "Consular Report of Birth Abroad (DS-2029)",
        cfr_item: "22 CFR 22.1",
        amount_cents: 10_000,
    },
    FeeSeed {
        code: "notarial-certificate",
        description: "Notarial certificate (one seal, any number of signers)",
        cfr_item: "22 CFR 22.1",
        amount_cents: 5_000,
    },
    FeeSeed {
        code: "certified-true-copy",
        description: "Certified true copy",
        cfr_item: "22 CFR 22.1",
        amount_cents: 5_000,
    },
    FeeSeed {
        code: "authentication",
        description: "Authentication",
        cfr_item: "22 CFR 22.1",
        amount_cents: 5_000,
    },
];

/// Mexico's states (ISO 3166-2:MX codes) and the post whose consular district each is in
/// (DESIGN.md's map). Sonora and Tamaulipas are split; they name the larger part's post, and a
/// traveller in the north names the district (NOG, NLD) instead. Zacatecas is Monterrey's.
pub const MEXICAN_STATES: &[(&str, &str, &str)] = &[
    ("AGU", "Aguascalientes", "GDL"),
    ("BCN", "Baja California", "TIJ"),
    ("BCS", "Baja California Sur", "TIJ"),
    ("CAM", "Campeche", "MID"),
    ("CHP", "Chiapas", "MEX"),
    ("CHH", "Chihuahua", "CJS"),
    ("CMX", "Ciudad de México", "MEX"),
    ("COA", "Coahuila", "MTY"),
    ("COL", "Colima", "GDL"),
    ("DUR", "Durango", "CJS"),
    ("GUA", "Guanajuato", "MEX"),
    ("GRO", "Guerrero", "MEX"),
    ("HID", "Hidalgo", "MEX"),
    ("JAL", "Jalisco", "GDL"),
    ("MEX", "Estado de México", "MEX"),
    ("MIC", "Michoacán", "MEX"),
    ("MOR", "Morelos", "MEX"),
    ("NAY", "Nayarit", "GDL"),
    ("NLE", "Nuevo León", "MTY"),
    ("OAX", "Oaxaca", "MEX"),
    ("PUE", "Puebla", "MEX"),
    ("QUE", "Querétaro", "MEX"),
    ("ROO", "Quintana Roo", "MID"),
    ("SLP", "San Luis Potosí", "MTY"),
    ("SIN", "Sinaloa", "HMO"),
    ("SON", "Sonora", "HMO"),
    ("TAB", "Tabasco", "MEX"),
    ("TAM", "Tamaulipas", "MAM"),
    ("TLA", "Tlaxcala", "MEX"),
    ("VER", "Veracruz", "MEX"),
    ("YUC", "Yucatán", "MID"),
    ("ZAC", "Zacatecas", "MTY"),
];
